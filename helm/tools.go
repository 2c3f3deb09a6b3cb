//go:build tools

// Package tools pins Helm, which `ork e2e` uses for the `setup.helm` entries of an E2E file.
// It lives in its own module because Helm pins its own Kubernetes client libraries, which
// differ from the control plane's.
package tools

import (
	_ "helm.sh/helm/v4/cmd/helm"
)
