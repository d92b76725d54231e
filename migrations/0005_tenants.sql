-- Tenants (README "Tenants and scopes"): each row belongs to one tenant; rows
-- from before tenants existed belong to the shared space (''). Every lookup by
-- memory or task id is scoped by it, so an id of another tenant is never reachable.
ALTER TABLE memories ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
CREATE INDEX memories_by_tenant ON memories (tenant, user_id);
ALTER TABLE tasks ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
