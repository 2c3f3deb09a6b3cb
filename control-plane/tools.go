//go:build tools

// Package tools pins the control-plane programs ork builds for its tests and
// `ork dev`. The build tag keeps this file out of every compilation; `go mod
// tidy` still reads its imports, so the module keeps their dependencies.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
