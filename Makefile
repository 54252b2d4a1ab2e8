# The two commands a newcomer needs: `make demo` and `make test`.
# Both install whatever is missing first (scripts/setup.sh).

.PHONY: demo test bench vectors setup

demo: setup
	cargo run --release -q --example demo

test:
	scripts/test.sh

bench: setup
	cd tests/interop && cargo bench --bench seal

setup:
	scripts/setup.sh
