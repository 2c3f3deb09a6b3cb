//! Integration tests of `ork e2e` on the real local control plane.
