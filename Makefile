# The two commands a newcomer needs: `make demo` and `make test`.
# Both install whatever is missing first (scripts/setup.sh).
# One part of the tests: `make test-rust` (test-fuzz, test-vectors,
# test-interop, test-wasm, test-js, test-sql), i.e. `scripts/test.sh STEP`.

TEST_STEPS := rust fuzz vectors interop wasm js sql

.PHONY: demo test $(addprefix test-,$(TEST_STEPS)) bench setup moto fuzz

# The demo page on http://127.0.0.1:${PORT:-5173} (www/serve.mjs): installs the web
# toolchain if missing, rebuilds pkg/dist if stale, starts the patched moto
# (KMS + DynamoDB; ${MOTO_PORT} or a free port) and Vite. Ctrl-C stops all of it.
# The terminal-only Rust example is `cargo run --example demo`.
demo:
	@scripts/setup.sh web moto
	@node www/serve.mjs

# Every step (scripts/test.sh --list); each installs only what it needs.
test:
	scripts/test.sh

$(addprefix test-,$(TEST_STEPS)): test-%:
	scripts/test.sh $*

# The cargo-fuzz targets (fuzz/), FUZZ_SECONDS (default 60) each; see README "Fuzzing".
fuzz:
	scripts/fuzz.sh $${FUZZ_SECONDS:-60}

bench: setup
	cd tests/interop && cargo bench --bench seal

setup:
	scripts/setup.sh

# A local KMS + DynamoDB (patched moto) on http://127.0.0.1:$${MOTO_PORT:-5000}, for the KMS quick start.
moto:
	@scripts/setup.sh moto
	$$(tools/moto/setup_venv.sh) tools/moto/launch.py --port $${MOTO_PORT:-5000}
