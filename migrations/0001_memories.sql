-- One row per stored message. rowid is the FTS5 content rowid.
CREATE TABLE memories (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  agent_id TEXT,
  app_id TEXT,
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT '[]',
  chat_time TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX memories_by_user ON memories (user_id, created_at DESC);

-- trigram: unicode61 does not segment Chinese; trigram matches substrings in any script.
CREATE VIRTUAL TABLE memories_fts USING fts5 (
  content,
  content = 'memories',
  content_rowid = 'rowid',
  tokenize = 'trigram'
);

CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
  INSERT INTO memories_fts (rowid, content) VALUES (new.rowid, new.content);
END;
CREATE TRIGGER memories_ad AFTER DELETE ON memories BEGIN
  INSERT INTO memories_fts (memories_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
END;
