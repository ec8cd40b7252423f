// A local fake Kubernetes API server for tests. See server.ts for what it speaks.
export {
  aDeployment,
  aPod,
  aStatefulSet,
  ownerReferenceTo,
  type SeededWorkload,
  seedDeployment,
} from './builders.js';
export { POD_TEMPLATE_HASH } from './controllers.js';
export type { JsonObject, JsonValue } from './patch.js';
export { type FakeExtension, RESOURCES, type ResourceDef } from './resources.js';
export {
  DEFAULT_FAKE_TOKEN,
  DEFAULT_FAKE_USER,
  type DenyRule,
  FakeKubeApi,
  type FakeKubeApiOptions,
  type FaultRule,
  type KubeStatus,
  type RecordedRequest,
  resourcePath,
  type StatusReason,
  startFakeKubeApi,
} from './server.js';
