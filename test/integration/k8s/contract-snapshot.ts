// The objects the Cluster contract (cluster-contract.ts) runs on, as a snapshot file would hold them.

/** A small prod namespace: a Deployment → ReplicaSet → 2 pods, a StatefulSet pod, a bare pod, policies, secrets. */
export const CONTRACT_SNAPSHOT = `
apiVersion: v1
kind: List
items:
  - { apiVersion: v1, kind: Namespace, metadata: { name: prod, labels: { kubernetes.io/metadata.name: prod } } }
  - { apiVersion: v1, kind: Namespace, metadata: { name: kube-system, labels: { kubernetes.io/metadata.name: kube-system } } }
  - apiVersion: apps/v1
    kind: Deployment
    metadata: { name: payments-api, namespace: prod, uid: d-1, labels: { app: payments-api } }
    spec:
      replicas: 2
      selector: { matchLabels: { app: payments-api } }
      template:
        metadata: { labels: { app: payments-api } }
        spec: { containers: [{ name: app, image: pay:1 }] }
    status: { replicas: 2, readyReplicas: 2 }
  - apiVersion: apps/v1
    kind: ReplicaSet
    metadata:
      name: payments-api-7d9f
      namespace: prod
      uid: rs-1
      labels: { app: payments-api, pod-template-hash: 7d9f }
      ownerReferences: [{ apiVersion: apps/v1, kind: Deployment, name: payments-api, uid: d-1, controller: true }]
    spec:
      replicas: 2
      selector: { matchLabels: { app: payments-api, pod-template-hash: 7d9f } }
      template:
        metadata: { labels: { app: payments-api, pod-template-hash: 7d9f } }
        spec: { containers: [{ name: app, image: pay:1 }] }
  - apiVersion: v1
    kind: Pod
    metadata:
      name: payments-api-7d9f-a
      namespace: prod
      uid: pod-a
      labels: { app: payments-api, pod-template-hash: 7d9f, tier: api }
      ownerReferences: [{ apiVersion: apps/v1, kind: ReplicaSet, name: payments-api-7d9f, uid: rs-1, controller: true }]
    spec:
      serviceAccountName: payments-api
      containers:
        - { name: app, image: pay:1, env: [{ name: A, value: "1" }] }
        - { name: sidecar, image: side:1 }
    status: { phase: Running, podIP: 10.42.0.10 }
  - apiVersion: v1
    kind: Pod
    metadata:
      name: payments-api-7d9f-b
      namespace: prod
      uid: pod-b
      labels: { app: payments-api, pod-template-hash: 7d9f, version: v2 }
      ownerReferences: [{ apiVersion: apps/v1, kind: ReplicaSet, name: payments-api-7d9f, uid: rs-1, controller: true }]
    spec: { serviceAccountName: payments-api, containers: [{ name: app, image: pay:1 }] }
    status: { phase: Pending }
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: { name: ledger, namespace: prod, uid: sts-1, labels: { app: ledger } }
    spec:
      serviceName: ledger
      selector: { matchLabels: { app: ledger } }
      template: { metadata: { labels: { app: ledger } }, spec: { containers: [{ name: l, image: l:1 }] } }
  - apiVersion: v1
    kind: Pod
    metadata:
      name: ledger-0
      namespace: prod
      labels: { app: ledger }
      ownerReferences: [{ apiVersion: apps/v1, kind: StatefulSet, name: ledger, uid: sts-1, controller: true }]
    spec: { serviceAccountName: ledger, containers: [{ name: l, image: l:1 }] }
    status: { phase: Running }
  - apiVersion: v1
    kind: Pod
    metadata: { name: debug, namespace: prod }
    spec: { containers: [{ name: sh, image: busybox }] }
    status: { phase: Running }
  - apiVersion: v1
    kind: Pod
    metadata: { name: coredns-1, namespace: kube-system, labels: { k8s-app: kube-dns } }
    spec: { containers: [{ name: coredns, image: coredns:1 }] }
    status: { phase: Running }
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: { name: allow-dns, namespace: prod }
    spec:
      podSelector: { matchLabels: { app: payments-api } }
      policyTypes: [Egress]
      egress: [{ ports: [{ protocol: UDP, port: 53 }] }]
  - apiVersion: v1
    kind: Secret
    type: kubernetes.io/service-account-token
    metadata: { name: payments-api-token, namespace: prod, annotations: { kubernetes.io/service-account.name: payments-api } }
  - apiVersion: v1
    kind: Secret
    type: Opaque
    metadata: { name: db, namespace: prod }
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: { name: allow-orders, namespace: prod }
    spec: { selector: { matchLabels: { app: payments-api } }, action: ALLOW, rules: [{ to: [{ operation: { ports: ["443"] } }] }] }
`;
