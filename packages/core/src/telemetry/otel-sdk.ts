// Every part of OpenTelemetry a worker uses, in one module. The package's build bundles this file
// into dist/telemetry/otel-sdk.js (scripts/bundle-otel.mjs), so @bento/core ships about 1 MB of
// OpenTelemetry instead of depending on packages that install 19 MB (three builds each, with maps
// and declarations). The API keeps its state on globalThis, so a handler's own copy of
// @opentelemetry/api finds the providers registered through this one.
export * as api from '@opentelemetry/api'
export { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
export { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http'
export { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
export { resourceFromAttributes } from '@opentelemetry/resources'
export * as metrics from '@opentelemetry/sdk-metrics'
export * as traces from '@opentelemetry/sdk-trace'
