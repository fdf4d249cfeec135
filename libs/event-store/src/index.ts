export * from './event-store.js';
export * from './upcasters.js';
export * from './projection.js';
export { InMemoryEventStore } from './in-memory-event-store.js';
export { PgEventStore, type PgEventStoreOptions } from './pg-event-store.js';
export { APPEND_LOCK_KEY } from './pg-statements.js';
export { type GroupCommitStats } from './group-commit.js';
export {
  createEventStoreDataSource,
  eventStoreDataSourceOptions,
  runEventStoreMigrations,
  eventStoreMigrations,
  type EventStoreDataSourceOptions,
} from './data-source.js';
export { ProjectionRunner, type ProjectionRunnerOptions } from './projection-runner.js';
export { ProjectionRows, type ProjectionRow } from './projection-rows.js';
export { JetStreamRelay, type JetStreamRelayOptions, type RelayStats } from './jetstream-relay.js';
export {
  categoryOf,
  eventSubject,
  encodeRelayedEvent,
  decodeRelayedEvent,
  EVENT_POSITION_HEADER,
  type PublishedEvent,
  type PublishedForm,
} from './relayed-event.js';
export { Alarm, type RunnerLogger } from './loop.js';
export {
  ChainVerifier,
  verifyChain,
  verifyStoredChain,
  eventHash,
  canonicalJson,
  GENESIS_HASH,
  type ChainedEvent,
  type ChainBreak,
  type ChainBreakKind,
  type ChainReport,
  type ChainVerifierOptions,
  type ArchivedChainLink,
} from './hash-chain.js';
export { rebuildAndCompare, type RebuildOptions, type RebuildReport } from './projection-rebuild.js';
export { JetStreamProjectionFeed, type JetStreamProjectionFeedOptions } from './jetstream-feed.js';
export { PgAuditLog, type AuditQuery, type AuditPage } from './audit-log.js';
export { type PreparedStatement, preparedStatement, queryPrepared } from './prepared.js';
export { timeOrderedId } from './time-ordered-id.js';
export * from './inbox.js';
export {
  type Checkpoint,
  type ChainPoint,
  type CheckpointSigningKey,
  type CheckpointVerificationKey,
  CheckpointBuilder,
  CheckpointRejectedError,
  ChainDoesNotContinueError,
  CHECKPOINT_FILE,
  CHECKPOINT_TYP,
  MAX_CHECKPOINT_EVENTS,
  checkpointFileName,
  checkpointSigningKey,
  checkpointVerificationKey,
  fingerprint,
  generateCheckpointKey,
  readCheckpoint,
  signCheckpoint,
} from './checkpoints.js';
export {
  CheckpointAuditor,
  type CheckpointProblem,
  type CheckpointProblemKind,
  type CheckpointReport,
  type CheckpointSource,
} from './checkpoint-audit.js';
export {
  ChainCheckpointer,
  type ChainCheckpointerOptions,
  type CheckpointSink,
  type CheckpointWritten,
  DirectoryCheckpointSink,
  JetStreamCheckpointSink,
  readCheckpointDirectory,
} from './checkpointer.js';
export * from './retention/index.js';
