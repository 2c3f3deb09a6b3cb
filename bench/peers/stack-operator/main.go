// Command stack-operator is the Stack workload of `ork bench peers` written the way a
// kubebuilder user writes it with controller-runtime: one reconciler that server-side-applies
// the three children of a Stack (two ConfigMaps and a ServiceAccount, each with a controller
// owner reference) and then writes one status update (a Ready condition). It serves the group
// cr.bench.ork.test so that it never shares a CRD with ork or kro on the bench's cluster.
//
// It is a benchmark peer, not part of ork: built into the cache by bench/peers/build.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

const fieldOwner = "stack-operator"

var stackGVK = schema.GroupVersionKind{Group: "cr.bench.ork.test", Version: "v1", Kind: "Stack"}

type reconciler struct {
	client.Client
}

func (r *reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	stack := &unstructured.Unstructured{}
	stack.SetGroupVersionKind(stackGVK)
	if err := r.Get(ctx, req.NamespacedName, stack); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !stack.GetDeletionTimestamp().IsZero() {
		return ctrl.Result{}, nil // owner references let the garbage collector delete the children
	}
	n, _, _ := unstructured.NestedString(stack.Object, "spec", "n")
	owner := metav1.NewControllerRef(stack, stackGVK)
	for _, child := range children(stack.GetName(), stack.GetNamespace(), n, owner) {
		err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(child),
			client.FieldOwner(fieldOwner), client.ForceOwnership)
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("applying %s %s: %w", child.GetKind(), child.GetName(), err)
		}
	}
	conditions := readConditions(stack)
	changed := meta.SetStatusCondition(&conditions, metav1.Condition{
		Type: "Ready", Status: metav1.ConditionTrue, Reason: "Reconciled",
		Message: "children applied", ObservedGeneration: stack.GetGeneration(),
	})
	if !changed {
		return ctrl.Result{}, nil
	}
	list := make([]any, 0, len(conditions))
	for i := range conditions {
		raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&conditions[i])
		if err != nil {
			return ctrl.Result{}, err
		}
		list = append(list, raw)
	}
	if err := unstructured.SetNestedSlice(stack.Object, list, "status", "conditions"); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.Status().Update(ctx, stack); err != nil {
		if apierrors.IsConflict(err) {
			return ctrl.Result{Requeue: true}, nil
		}
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}

// children are the three objects a Stack owns, as fully specified intent for server-side apply.
func children(name, namespace, n string, owner *metav1.OwnerReference) []*unstructured.Unstructured {
	ref := map[string]any{
		"apiVersion": owner.APIVersion, "kind": owner.Kind, "name": owner.Name,
		"uid": string(owner.UID), "controller": true, "blockOwnerDeletion": true,
	}
	object := func(kind, suffix string, data map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": kind,
			"metadata": map[string]any{
				"name": name + "-" + suffix, "namespace": namespace,
				"labels":          map[string]any{"orkestra.orkspace.io/managed": "true"},
				"ownerReferences": []any{ref},
			},
		}}
		if data != nil {
			u.Object["data"] = data
		}
		return u
	}
	return []*unstructured.Unstructured{
		object("ConfigMap", "a", map[string]any{"n": n}),
		object("ConfigMap", "b", map[string]any{"n": n}),
		object("ServiceAccount", "sa", nil),
	}
}

func readConditions(stack *unstructured.Unstructured) []metav1.Condition {
	raw, _, _ := unstructured.NestedSlice(stack.Object, "status", "conditions")
	var out []metav1.Condition
	for _, item := range raw {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		var c metav1.Condition
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &c); err == nil {
			out = append(out, c)
		}
	}
	return out
}

func main() {
	var workers int
	var metricsAddr string
	flag.IntVar(&workers, "max-concurrent-reconciles", 1,
		"MaxConcurrentReconciles of the Stack controller (controller-runtime's default is 1)")
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "metrics address; 0 disables it")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Metrics:                metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "creating the manager:", err)
		os.Exit(1)
	}
	stack := &unstructured.Unstructured{}
	stack.SetGroupVersionKind(stackGVK)
	err = ctrl.NewControllerManagedBy(mgr).
		For(stack).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.ServiceAccount{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Complete(&reconciler{Client: mgr.GetClient()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "creating the controller:", err)
		os.Exit(1)
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		fmt.Fprintln(os.Stderr, "running the manager:", err)
		os.Exit(1)
	}
}
