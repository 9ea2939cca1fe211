-- The sending identity chosen for each message, so that delivery sends from
-- it and later placements count its sends against its caps. NULL means the
-- account's own sender address.
ALTER TABLE messages
    ADD COLUMN sending_identity_id uuid REFERENCES sending_identities(id) ON DELETE SET NULL;

-- Placement reads the account's sends of one channel from a given time on.
CREATE INDEX messages_channel_schedule ON messages (account_id, channel, scheduled_at);
