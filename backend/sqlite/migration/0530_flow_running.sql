-- Running executions, which an engine that is its store's only runner takes
-- over when it starts (their runner died with the previous process).
CREATE INDEX flow_executions_running ON flow_executions (deadline) WHERE status = 'running';
