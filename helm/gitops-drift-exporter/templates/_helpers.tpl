{{/* The chart's name, overridable. Also the `job` label the ServiceMonitor gives the scrape. */}}
{{- define "gitops-drift-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name for every object; the release name alone when it already contains the chart name. */}}
{{- define "gitops-drift-exporter.fullname" -}}
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

{{- define "gitops-drift-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gitops-drift-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "gitops-drift-exporter.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "gitops-drift-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gitops-drift-exporter
{{- end }}

{{- define "gitops-drift-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gitops-drift-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "gitops-drift-exporter.configMapName" -}}
{{- default (printf "%s-config" (include "gitops-drift-exporter.fullname" .)) .Values.existingConfigMap }}
{{- end }}

{{- define "gitops-drift-exporter.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The configuration as rendered into the ConfigMap: cacheDir points at the cache volume unless
set, and stateFile at the persistent volume when there is one. */}}
{{- define "gitops-drift-exporter.config" -}}
{{- $config := deepCopy (default dict .Values.config) }}
{{- if not (hasKey $config "cacheDir") }}
{{- $_ := set $config "cacheDir" "/var/cache/gitops-drift-exporter" }}
{{- end }}
{{- if and .Values.persistence.enabled (not (hasKey $config "stateFile")) }}
{{- $_ := set $config "stateFile" "/var/lib/gitops-drift-exporter/app-state.json" }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/* Refuse any RBAC rule that grants more than reading: the agent never writes to the cluster. */}}
{{- define "gitops-drift-exporter.readOnlyRules" -}}
{{- range $index, $rule := .Values.rbac.rules }}
{{- range $verb := $rule.verbs }}
{{- if not (has $verb (list "get" "list" "watch")) }}
{{- fail (printf "rbac.rules[%d].verbs: %q is not allowed; the agent only reads (get, list, watch)" $index $verb) }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml .Values.rbac.rules }}
{{- end }}
