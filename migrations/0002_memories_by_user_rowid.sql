-- Rows of one user in rowid (insertion) order: finds where a user's newest
-- rows begin, so search can look there first (src/memos/local-backend.ts).
CREATE INDEX memories_by_user_rowid ON memories (user_id);
