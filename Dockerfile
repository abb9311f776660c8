# The Dagster code location (cdr_dagster) as a container image; deployment/deploy.py builds it
# tagged with the commit (<registry>/cdr-dagster-<deployment>:<git sha>). One image serves every
# role, each an ECS task definition of deployment/dagster_stack.yaml with its command:
#
#   code server (default command)  dagster code-server start -h 0.0.0.0 -p 4000 -m cdr_dagster.definitions
#   webserver (OSS)                dagster-webserver -h 0.0.0.0 -p 3000 -w /opt/dagster/instance/workspace.yaml
#   daemon (OSS)                   dagster-daemon run -w /opt/dagster/instance/workspace.yaml
#   each run                       dagster api execute_run <json> (EcsRunLauncher's RunTask command)
#
# CMD only, never an ENTRYPOINT: the run launcher's command replaces CMD, and an ENTRYPOINT
# would be put in front of it. The stack gives each container its environment and secrets.
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

# The only writable folder of the read-only containers (a task volume mounted here keeps this
# ownership): temporary files (compute logs before their upload, the cdr.fyi limiter's state).
RUN mkdir /opt/dagster/scratch && chown dagster:dagster /opt/dagster/scratch
ENV TMPDIR=/opt/dagster/scratch
VOLUME ["/opt/dagster/scratch"]

USER dagster
EXPOSE 4000
# Health check of the code-server container (in its task definition, since the webserver and
# daemon run the same image): dagster api grpc-health-check -p 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "cdr_dagster.definitions"]
