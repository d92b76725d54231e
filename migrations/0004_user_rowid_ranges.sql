-- Each user's memories live in a rowid range of their own, so a search can bound
-- its FTS5 doclist scan by rowid and its cost follows the user's own rows, not
-- the whole table (bench/README.md "Embedded store"). A user's range starts at
-- slot × 2^28 and holds 2^28 rowids; slots stay below 2^25, so every rowid is
-- below 2^53 and exact as a JavaScript number. src/store/d1-backend.ts
-- allocates a slot on a user's first add and the next rowid of the range on
-- every add.
CREATE TABLE user_slots (
  user_id TEXT PRIMARY KEY,
  slot INTEGER NOT NULL UNIQUE
) WITHOUT ROWID;

-- Existing users get slots in order of their first memory.
INSERT INTO user_slots (user_id, slot)
  SELECT user_id, row_number() OVER (ORDER BY min(rowid)) FROM memories GROUP BY user_id;

-- Existing rows move into their user's range, in their old order; ids stay.
-- Negative first, so no new rowid collides with an old one not yet moved.
UPDATE memories SET rowid = -moved.new_rowid
  FROM (
    SELECT m.rowid AS old_rowid,
      s.slot * 268435456 + row_number() OVER (PARTITION BY m.user_id ORDER BY m.rowid) - 1 AS new_rowid
    FROM memories m JOIN user_slots s ON s.user_id = m.user_id
  ) AS moved
  WHERE memories.rowid = moved.old_rowid;
UPDATE memories SET rowid = -rowid;

-- The FTS index is keyed by rowid: rebuild it from the moved rows.
INSERT INTO memories_fts (memories_fts) VALUES ('rebuild');

-- Search finds a user's newest rows from the range now.
DROP INDEX memories_by_user_rowid;
