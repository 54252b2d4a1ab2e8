# The two commands a newcomer needs: `make demo` and `make test`.
# Both install whatever is missing first (scripts/setup.sh).

.PHONY: demo test bench vectors setup moto

demo: setup
	cargo run --release -q --example demo

test:
	scripts/test.sh

bench: setup
	cd tests/interop && cargo bench --bench seal

setup:
	scripts/setup.sh

# A local KMS + DynamoDB (patched moto) on http://127.0.0.1:$${MOTO_PORT:-5000}, for the KMS quick start.
moto:
	$$(tests/support/moto/setup_venv.sh) tests/support/moto/launch.py --port $${MOTO_PORT:-5000}
