//go:build tools

// Package tools pins kwok, the fake-kubelet controller that makes Pods "run"
// on simulated Nodes in the workloads mode of ork's local control plane. It
// lives in its own module because kwok pins its own Kubernetes client
// libraries, which differ from the replace block of the parent module.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
