# DeepX top-level entry points. `make demo` and `make test` work on a fresh Debian 12 machine.
BUILD_DIR ?= build/release
ASAN_DIR  ?= build/asan
JOBS      ?= $(shell nproc)
CMAKE_GEN := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: deps build demo test test-asan clean format models

deps:
	bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Classifies real Fashion-MNIST test images with the bundled trained CNN.
demo: build
	bash scripts/demo.sh $(BUILD_DIR)/bin/deepx

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# Same tests under AddressSanitizer + UndefinedBehaviorSanitizer (Debug).
test-asan: deps
	cmake -S . -B $(ASAN_DIR) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DDEEPX_SANITIZE=ON
	cmake --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ctest --output-on-failure -j $(JOBS)

# Trains the Fashion-MNIST models RLC is measured on (models/trained/, gitignored) + calibration samples.
# Seeded; on 2 CPU cores the DNNs take minutes, the AlexNet-style CNN about half an hour.
models:
	/usr/bin/python3 scripts/train_rlc_models.py

format:
	clang-format -i $$(git ls-files '*.h' '*.cpp' '*.c')

clean:
	rm -rf build
