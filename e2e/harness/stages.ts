/**
 * kwok pod stages for the end-to-end cluster. They replace kwok's defaults (pod-ready, pod-complete, pod-delete from
 * kustomize/stage/pod/fast) with three changes:
 *  - a pod whose image tag is NEVER_READY_TAG is scheduled but never started, so a release using it can never become
 *    ready (the "broken release" scenario);
 *  - pods carrying a `helm.sh/hook` annotation (Helm test pods, bare hook pods) complete like Job pods do, since
 *    kwok's own pod-complete stage only finishes pods owned by a Job;
 *  - pods annotated `airq.e2e/fail: "true"` complete with exit code 1 (phase Failed), to exercise failing tests.
 * Node stages are kwok's defaults (kwok falls back to them when the configuration has none).
 */

/** Image tag whose pods never become ready. */
export const NEVER_READY_TAG = 'e2e-never-ready';

const notDeleted = `
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'`;

const neverReadyQuery = `'[.spec.containers[].image | endswith(":${NEVER_READY_TAG}")] | any'`;

const podReady = `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:${notDeleted}
    - key: '.status.podIP'
      operator: 'DoesNotExist'
    - key: ${neverReadyQuery}
      operator: 'NotIn'
      values: ['true']
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: ContainersReady
      {{ range .spec.readinessGates }}
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: {{ .conditionType | Quote }}
      {{ end }}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        restartCount: 0
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
      initContainerStatuses:
      {{ range .spec.initContainers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        restartCount: 0
        state:
          terminated:
            exitCode: 0
            finishedAt: {{ $now | Quote }}
            reason: Completed
            startedAt: {{ $now | Quote }}
      {{ end }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
      phase: Running
      startTime: {{ $now | Quote }}
`;

function completeStage(name: string, exitCode: number, selectors: string): string {
  const phase = exitCode === 0 ? 'Succeeded' : 'Failed';
  const reason = exitCode === 0 ? 'Completed' : 'Error';
  return `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: ${name}
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:${notDeleted}
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']${selectors}
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        type: ContainersReady
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: ${exitCode}
            finishedAt: {{ $now | Quote }}
            reason: ${reason}
            startedAt: {{ $now | Quote }}
      {{ end }}
      phase: ${phase}
`;
}

const failAnnotation = `'.metadata.annotations["airq.e2e/fail"]'`;

const podComplete = completeStage(
  'pod-complete',
  0,
  `
    - key: '.metadata.ownerReferences.[].kind'
      operator: 'In'
      values: ['Job']
    - key: ${failAnnotation}
      operator: 'NotIn'
      values: ['true']`,
);

const hookPodComplete = completeStage(
  'hook-pod-complete',
  0,
  `
    - key: '.metadata.annotations["helm.sh/hook"]'
      operator: 'Exists'
    - key: '.metadata.ownerReferences.[].kind'
      operator: 'NotIn'
      values: ['Job']
    - key: ${failAnnotation}
      operator: 'NotIn'
      values: ['true']`,
);

const podFail = completeStage(
  'pod-fail',
  1,
  `
    - key: ${failAnnotation}
      operator: 'In'
      values: ['true']`,
);

const podDelete = `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-delete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'Exists'
  next:
    finalizers:
      empty: true
    delete: true
`;

/** The kwok configuration file (multi-document YAML) holding every pod stage. */
export function kwokStagesConfig(): string {
  return [podReady, podComplete, hookPodComplete, podFail, podDelete].map((doc) => doc.trim()).join('\n---\n') + '\n';
}
