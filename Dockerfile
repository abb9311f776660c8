# The Dagster code location (cdr_dagster) as a container image; deployment/deploy.py builds it
# tagged with the commit (<registry>/cdr-dagster:<git sha>). One image serves every role:
#
#   code server (default command)  dagster code-server start -h 0.0.0.0 -p 4000 -m cdr_dagster.definitions
#   webserver (OSS)                dagster-webserver -h 0.0.0.0 -p 3000 -w /opt/dagster/instance/workspace.yaml
#   daemon (OSS)                   dagster-daemon run -w /opt/dagster/instance/workspace.yaml
#
# Set on every container: DAGSTER_HOME=/opt/dagster/instance/<test|prod> (the instance config:
# PostgreSQL, compute logs in S3, run retries), DAGSTER_DEPLOYMENT=<test|prod>, the DAGSTER_PG_*
# and DAGSTER_COMPUTE_LOGS_* variables, CDR_DASHBOARD_BUCKET and the secret CDR_FYI_API_TOKEN.
# Dagster+ Hybrid agents run the image with their own command. See docs/deployment.md.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --system --uid 10001 --user-group --home-dir /opt/dagster --create-home dagster

WORKDIR /opt/dagster/app

# The package and the lock that pins every dependency (the same install as dev.py's, not editable).
COPY pyproject.toml constraints.txt README.md ./
COPY cdr_dagster ./cdr_dagster
RUN pip install -c constraints.txt . \
    && rm -rf build ./*.egg-info

# Instance configuration of each deployment and the workspace of the OSS webserver and daemon.
COPY --chown=dagster:dagster deployment/dagster /opt/dagster/instance

USER dagster
EXPOSE 4000
# Health check of the code-server container (in its task definition, since the webserver and
# daemon run the same image): dagster api grpc-health-check -p 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "cdr_dagster.definitions"]
