{{/* Chart name, trimmed to the 63-character DNS label limit. */}}
{{- define "airq.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Resource name prefix: <release>-airq, or the release name alone when it already contains the chart name. */}}
{{- define "airq.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* <fullname>-<component>, e.g. (include "airq.componentName" (list . "api")). */}}
{{- define "airq.componentName" -}}
{{- $ctx := index . 0 -}}
{{- printf "%s-%s" (include "airq.fullname" $ctx | trunc 50 | trimSuffix "-") (index . 1) }}
{{- end }}

{{- define "airq.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The version the API reports and the default image tag. */}}
{{- define "airq.appVersion" -}}
{{- default .Chart.AppVersion .Values.appVersion }}
{{- end }}

{{- define "airq.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default (include "airq.appVersion" .) .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: (include "airq.selectorLabels" (list . "api")). Never change: selectors are immutable. */}}
{{- define "airq.selectorLabels" -}}
{{- $ctx := index . 0 -}}
app.kubernetes.io/name: {{ include "airq.name" $ctx }}
app.kubernetes.io/instance: {{ $ctx.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* All labels of one component's objects and pods. */}}
{{- define "airq.labels" -}}
{{- $ctx := index . 0 -}}
helm.sh/chart: {{ include "airq.chart" $ctx }}
{{ include "airq.selectorLabels" . }}
app.kubernetes.io/part-of: airq
app.kubernetes.io/version: {{ include "airq.appVersion" $ctx | replace "+" "_" | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ $ctx.Release.Service }}
{{- end }}

{{/*
Pod labels of components that do not run the application (database, cache): without the app version or the chart
version, so a release does not restart PostgreSQL and Varnish when only the API changes.
*/}}
{{- define "airq.stablePodLabels" -}}
{{- $ctx := index . 0 -}}
{{ include "airq.selectorLabels" . }}
app.kubernetes.io/part-of: airq
app.kubernetes.io/managed-by: {{ $ctx.Release.Service }}
{{- end }}

{{- define "airq.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "airq.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "airq.apiServiceName" -}}{{ include "airq.componentName" (list . "api") }}{{- end }}
{{- define "airq.cacheServiceName" -}}{{ include "airq.componentName" (list . "cache") }}{{- end }}
{{- define "airq.cacheHeadlessServiceName" -}}{{ include "airq.componentName" (list . "cache-headless") }}{{- end }}
{{- define "airq.databaseServiceName" -}}{{ include "airq.componentName" (list . "postgresql") }}{{- end }}
{{/* The database's ClusterIP Service: the address clients use (the headless one above is the StatefulSet's identity). */}}
{{- define "airq.databaseClientServiceName" -}}{{ include "airq.componentName" (list . "postgresql-primary") }}{{- end }}

{{/* The in-cluster address of the API Service, as the cache's backend resolves it. */}}
{{- define "airq.apiHost" -}}
{{- printf "%s.%s.svc" (include "airq.apiServiceName" .) .Release.Namespace }}
{{- end }}

{{- define "airq.cacheUrl" -}}
{{- printf "http://%s.%s.svc:%v" (include "airq.cacheServiceName" .) .Release.Namespace .Values.cache.service.port }}
{{- end }}

{{/* Where the seed sends its BAN: a name with one address per cache pod, each of which it bans (db/src/notify-cache.ts). */}}
{{- define "airq.cacheBanUrl" -}}
{{- printf "http://%s.%s.svc:%v/" (include "airq.cacheHeadlessServiceName" .) .Release.Namespace .Values.cache.containerPort }}
{{- end }}

{{/* Restrictive pod securityContext: (include "airq.podSecurityContext" 1000). */}}
{{- define "airq.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ . }}
runAsGroup: {{ . }}
fsGroup: {{ . }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Restrictive container securityContext, the same for every container of the chart. */}}
{{- define "airq.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The uid of the application image (node:24's "node" user). */}}
{{- define "airq.appUid" -}}1000{{- end }}

{{/* nodeSelector + tolerations for a pod: (include "airq.scheduling" (list . $extraNodeSelector)). */}}
{{- define "airq.scheduling" -}}
{{- $ctx := index . 0 -}}
{{- $nodeSelector := merge (deepCopy (index . 1)) $ctx.Values.nodeSelector }}
{{- with $nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $ctx.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "airq.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end }}

{{/* Database connection: the Secret and key holding the password. */}}
{{- define "airq.databaseSecretName" -}}
{{- if .Values.postgresql.enabled }}
{{- default (include "airq.componentName" (list . "postgresql")) .Values.postgresql.auth.existingSecret }}
{{- else }}
{{- default (include "airq.componentName" (list . "external-db")) .Values.externalDatabase.existingSecret }}
{{- end }}
{{- end }}

{{- define "airq.databaseSecretKey" -}}
{{- if .Values.postgresql.enabled }}{{ .Values.postgresql.auth.passwordKey }}{{ else }}{{ .Values.externalDatabase.passwordKey }}{{ end }}
{{- end }}

{{- define "airq.databaseHost" -}}
{{- if .Values.postgresql.enabled }}
{{- printf "%s.%s.svc" (include "airq.databaseClientServiceName" .) .Release.Namespace }}
{{- else }}
{{- required "externalDatabase.host is required when postgresql.enabled is false: set it in the environment's values" .Values.externalDatabase.host }}
{{- end }}
{{- end }}

{{- define "airq.databasePort" -}}
{{- if .Values.postgresql.enabled }}5432{{ else }}{{ .Values.externalDatabase.port }}{{ end }}
{{- end }}

{{/*
Environment variables that give a container DATABASE_URL. Kubernetes expands $(DB_PASSWORD) from the variable defined
just before it, so the password stays in the Secret and out of the pod spec.
*/}}
{{- define "airq.databaseEnv" -}}
{{- $db := ternary .Values.postgresql .Values.externalDatabase .Values.postgresql.enabled -}}
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "airq.databaseSecretName" . }}
      key: {{ include "airq.databaseSecretKey" . }}
- name: DATABASE_URL
  value: {{ printf "postgres://%s:$(DB_PASSWORD)@%s:%s/%s%s" $db.username (include "airq.databaseHost" .) (include "airq.databasePort" .) $db.database (ternary "" (printf "?sslmode=%s" .Values.externalDatabase.sslMode) .Values.postgresql.enabled) | quote }}
{{- end }}

{{/* An init container that waits until the database accepts TCP connections (the image has node, not pg_isready). */}}
{{- define "airq.waitForDatabase" -}}
- name: wait-for-database
  image: {{ include "airq.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command:
    - node
    - -e
    - |
      const net = require('node:net');
      const [host, port] = [process.env.DB_HOST, Number(process.env.DB_PORT)];
      const deadline = Date.now() + 300_000;
      const attempt = () => {
        const socket = net.connect({ host, port, timeout: 3000 });
        socket.once('connect', () => { socket.end(); console.log(`database ${host}:${port} accepts connections`); });
        const retry = (err) => {
          socket.destroy();
          if (Date.now() > deadline) { console.error(`database ${host}:${port} unreachable for 5 minutes: ${err?.message ?? 'timeout'}`); process.exit(1); }
          setTimeout(attempt, 2000);
        };
        socket.once('error', retry);
        socket.once('timeout', () => retry());
      };
      attempt();
  env:
    - name: DB_HOST
      value: {{ include "airq.databaseHost" . | quote }}
    - name: DB_PORT
      value: {{ include "airq.databasePort" . | quote }}
  securityContext:
    {{- include "airq.containerSecurityContext" . | nindent 4 }}
  resources:
    requests: {cpu: 10m, memory: 32Mi}
    limits: {memory: 64Mi}
{{- end }}

{{/* Seconds the kubelet waits after SIGTERM starts (preStop included): preStop + drain + in-flight requests. */}}
{{- define "airq.terminationGracePeriodSeconds" -}}
{{- $s := .Values.api.shutdown }}
{{- add $s.preStopSeconds (div (add $s.drainMs 999) 1000) $s.inFlightSeconds }}
{{- end }}
