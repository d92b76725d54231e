-- Memory management (README "Memory management"): titles, status and edits that
-- keep the FTS index in step, lookups by conversation and agent, and add tasks.
ALTER TABLE memories ADD COLUMN title TEXT;
ALTER TABLE memories ADD COLUMN status TEXT NOT NULL DEFAULT 'activated';
ALTER TABLE memories ADD COLUMN updated_at INTEGER;
ALTER TABLE memories ADD COLUMN task_id TEXT;
CREATE INDEX memories_by_conversation ON memories (user_id, conversation_id);
CREATE INDEX memories_by_agent ON memories (agent_id);

CREATE TRIGGER memories_au AFTER UPDATE OF content ON memories BEGIN
  INSERT INTO memories_fts (memories_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
  INSERT INTO memories_fts (rowid, content) VALUES (new.rowid, new.content);
END;

-- One row per add (and per feedback): its task id answers get/status.
CREATE TABLE tasks (
  task_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
