# The platform's commands (docs/architecture.md "The outside contract"). Everything runs on this
# machine without Docker;
# `docker compose up` does the same where a Docker engine exists.
.PHONY: up down stop logs status restart test lint deps infra

up:      ## start everything in the background; returns when all services are ready
	@bash deploy/local/platform.sh up

down:    ## stop the services and the infrastructure
	@bash deploy/local/platform.sh down

stop:    ## stop the services only (PostgreSQL and Kafka keep running)
	@bash deploy/local/platform.sh stop

logs:    ## follow the services' logs
	@bash deploy/local/platform.sh logs

status:  ## each service's state, pid, uptime and restarts; the infrastructure
	@bash deploy/local/platform.sh status

restart: ## restart one service: make restart SERVICE=triage (the others keep serving)
	@bash deploy/local/platform.sh restart "$(SERVICE)"

test:    ## ruff, mypy and every test over real Kafka and PostgreSQL
	@bash deploy/local/test.sh

deps:    ## Python dependencies only
	@bash deploy/local/deps.sh

infra:   ## PostgreSQL and Kafka only (writes .local/infra.env)
	@bash deploy/local/infra.sh up
