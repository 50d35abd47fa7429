"""What the server stores is not drift: every kind as users write it, applied client-side and
server-side, compares Synced against Git after the server has defaulted and allocated its fields."""

from __future__ import annotations

import pytest
from scenario import Scenario, drift

MODES = pytest.mark.parametrize("server_side", [False, True], ids=["client-side", "server-side"])

KINDS = {
    "statefulset": """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec:
          serviceName: db
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec:
              containers:
                - name: db
                  image: postgres:16
                  env: [{name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
                  volumeMounts: [{name: data, mountPath: /var/lib/postgresql}]
          volumeClaimTemplates:
            - metadata: {name: data}
              spec:
                accessModes: [ReadWriteOnce]
                resources: {requests: {storage: 1Gi}}
        """,
    "daemonset": """
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: agent}
        spec:
          selector: {matchLabels: {app: agent}}
          template:
            metadata: {labels: {app: agent}}
            spec:
              containers: [{name: agent, image: "busybox:1.36", args: [sleep, "3600"]}]
              volumes: [{name: host, hostPath: {path: /var/log}}, {name: cfg, configMap: {name: agent}}]
        """,
    "job": """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: migrate}
        spec:
          template:
            spec:
              restartPolicy: Never
              containers: [{name: migrate, image: "busybox:1.36", command: ["true"]}]
        """,
    "cronjob": """
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: nightly}
        spec:
          schedule: "0 3 * * *"
          jobTemplate:
            spec:
              template:
                spec:
                  restartPolicy: OnFailure
                  containers: [{name: job, image: "busybox:1.36"}]
        """,
    "ingress": """
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: web}
        spec:
          rules:
            - host: web.example.com
              http:
                paths:
                  - path: /
                    pathType: Prefix
                    backend: {service: {name: web, port: {number: 80}}}
        """,
    "rbac": """
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: reader}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: reader}
        rules:
          - apiGroups: [""]
            resources: [configmaps]
            verbs: [get, list]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: reader}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
        subjects: [{kind: ServiceAccount, name: reader, apiGroup: ""}]
        """,
    "pdb": """
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: web}
        spec:
          maxUnavailable: 1
          selector: {matchLabels: {app: web}}
        """,
    "networkpolicy": """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: deny}
        spec:
          podSelector: {}
          ingress:
            - from: [{podSelector: {matchLabels: {role: frontend}}}]
              ports: [{port: 8080}]
        """,
    "pvc": """
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: scratch}
        spec:
          accessModes: [ReadWriteOnce]
          resources: {requests: {storage: 2Gi}}
        """,
    "secret-stringdata": """
        apiVersion: v1
        kind: Secret
        metadata: {name: creds}
        stringData: {user: admin, password: hunter2}
        """,
    "service-nodeport": """
        apiVersion: v1
        kind: Service
        metadata: {name: edge}
        spec:
          type: NodePort
          selector: {app: edge}
          ports: [{name: http, port: 80, targetPort: http}]
        """,
    "quantities": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: sized}
        spec:
          selector: {matchLabels: {app: sized}}
          template:
            metadata: {labels: {app: sized}}
            spec:
              containers:
                - name: app
                  image: nginx:1.25
                  resources:
                    requests: {cpu: 1000m, memory: 0.5Gi}
                    limits: {cpu: "2", memory: 1024Mi}
        """,
    "hpa-v2": """
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: web}
        spec:
          scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
          minReplicas: 2
          maxReplicas: 5
          metrics:
            - type: Resource
              resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
            - type: Pods
              pods:
                metric: {name: rps}
                target: {type: AverageValue, averageValue: 1000m}
        """,
    "hpa-v1": """
        apiVersion: autoscaling/v1
        kind: HorizontalPodAutoscaler
        metadata: {name: web}
        spec:
          scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
          maxReplicas: 5
          targetCPUUtilizationPercentage: 60
        """,
    "pod": """
        apiVersion: v1
        kind: Pod
        metadata: {name: debug}
        spec:
          containers: [{name: debug, image: "busybox:1.36", args: [sleep, "3600"]}]
        """,
}


@pytest.fixture
def scenario(control_plane, namespace, work) -> Scenario:
    return Scenario(control_plane, namespace, work)


@MODES
@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_applied_as_written_is_synced(scenario: Scenario, kind: str, server_side: bool) -> None:
    scenario.commit(KINDS[kind])
    scenario.apply(server_side=server_side)
    assert drift(await scenario.evaluate()) == []
