"""The public page's chart code (src/, vendor/), its Webflow embed and the local preview stack."""
