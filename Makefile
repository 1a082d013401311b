# maps-lab: `make demo` runs the default lab end to end; `make test` runs the tests.
# Both start with `make setup`, which installs what a fresh Debian/Ubuntu machine lacks.

VENV    := .venv
PYTHON  ?= python3
APT_PKGS := openvswitch-switch frr bird2 openbgpd gobgpd iproute2 iputils-ping tcpdump nftables procps chromium chromium-driver
STAMP   := $(VENV)/.setup-done
TOPOLOGY ?= topologies/seattle.yaml

.PHONY: setup demo test unit bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/mapslab demo $(TOPOLOGY)

test: setup
	$(VENV)/bin/pytest -q

unit: setup
	$(VENV)/bin/pytest -q -m 'not integration'

bench: setup
	$(VENV)/bin/python bench/run.py
	$(VENV)/bin/python bench/programs.py

clean:
	rm -rf $(VENV) .pytest_cache
