//! A real local Kubernetes control plane on loopback, for tests, benchmarks and `ork dev`.
