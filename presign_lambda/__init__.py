"""The presigned-URL Lambda of the dashboard: see docs/presign.md."""
