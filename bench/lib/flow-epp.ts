/**
 * The README's flow-control example ("Flow control (priority, fairness, shedding)"), as
 * written there, named so pools can reference it (`endpointPickerRef: { name: flow-epp }`).
 * A module of its own: pool-micro runs under Node too, where pool-overhead.ts (Bun) cannot load.
 */
export const FLOW_EPP = `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
metadata: { name: flow-epp }
featureGates: [flowControl]
saturationDetector:
  queueDepthThreshold: 5
  kvCacheUtilThreshold: 0.8
  metricsStalenessThreshold: 2s
flowControl:
  defaultRequestTTL: 60s
  noEndpointRequestTTL: 5m
  maxRequests: 20k
  maxBytes: 10Gi
  defaultPriorityBand:
    maxRequests: 5000
    maxBytes: 1G
    fairnessPolicyRef: round-robin-fairness-policy
    orderingPolicyRef: fcfs-ordering-policy
  priorityBands:
    - { priority: -1, ceiling: 0.8, maxRequests: 50, defaultRequestTTL: 10s }`;
