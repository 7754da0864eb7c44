"""JAX's side of the jit benchmark (docs/performance.md, issue 13): the
2-layer MLP loss of benches/autodiff.rs (batch 64, 32 -> 64 -> 1, tanh,
mean squared error, f32), `jax.jit(jax.value_and_grad)` over the four
parameters, called synchronously (`block_until_ready`). Rounds of 50 calls;
prints the median and minimum per call. Not part of the Rust benchmark; run
it beside it on the same machine:

    python3 -m venv /tmp/np && /tmp/np/bin/pip install 'jax[cpu]==0.10.2'
    /tmp/np/bin/python benches/jax/mlp_jit.py
"""
import statistics
import time

import jax
import jax.numpy as jnp


def loss(params, x, y):
    w1, b1, w2, b2 = params
    out = jnp.tanh(x @ w1 + b1) @ w2 + b2
    return jnp.mean(jnp.square(out - y))


def main():
    key = jax.random.PRNGKey(1)
    k = jax.random.split(key, 4)
    x = jax.random.normal(k[0], (64, 32), jnp.float32)
    y = jax.random.normal(k[1], (64, 1), jnp.float32)
    params = [
        0.2 * jax.random.normal(k[2], (32, 64), jnp.float32),
        jnp.zeros((64,), jnp.float32),
        0.2 * jax.random.normal(k[3], (64, 1), jnp.float32),
        jnp.zeros((1,), jnp.float32),
    ]
    step = jax.jit(jax.value_and_grad(loss))
    jax.block_until_ready(step(params, x, y))
    per_call = []
    for _ in range(31):
        t = time.perf_counter()
        for _ in range(50):
            jax.block_until_ready(step(params, x, y))
        per_call.append((time.perf_counter() - t) / 50 * 1e6)
    print(f"jax {jax.__version__} jit(value_and_grad) MLP step: median {statistics.median(per_call):.1f} us, "
          f"min {min(per_call):.1f} us")


if __name__ == "__main__":
    main()
