export {
  type FakeChannel,
  type FakeEphemeral,
  type FakeMessage,
  FakeSlackApi,
  type FakeSlackApiOptions,
  type FakeUpload,
  type FakeUser,
  type FakeView,
  type RateLimitOptions,
  type RecordedCall,
  type ResponseUrlPost,
  startFakeSlackApi,
} from './server.js';
export { type BlockProblem, blockProblems } from './validate.js';
