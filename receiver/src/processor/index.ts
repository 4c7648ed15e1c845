export * from './classify.ts';
export * from './pipeline.ts';
export * from './process-crash.ts';
export * from './runner.ts';
export * from './signature.ts';
export * from './tuning.ts';
export * from './user-agent.ts';
export * from './start.ts';
