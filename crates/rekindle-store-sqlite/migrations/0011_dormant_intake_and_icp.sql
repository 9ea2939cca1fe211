-- A campaign that takes dormant leads: the periodic scan enrolls leads idle 30
-- to 365 days into it while it is active.
ALTER TABLE campaigns ADD COLUMN takes_dormant_leads INTEGER NOT NULL DEFAULT 0;
CREATE INDEX campaigns_dormant_intake ON campaigns (status) WHERE takes_dormant_leads;

-- The ideal customer profile derived from an account's won deals (leads with
-- status won), one per account, replaced on each derivation.
CREATE TABLE icp_profiles (
    account_id BLOB PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    won_deals INTEGER NOT NULL CHECK (won_deals >= 0),
    profile TEXT NOT NULL,
    derived_at TEXT NOT NULL
);

-- How far a lead's ranking moves for its match with the profile, why, and
-- when it was last compared. The ranking is score + icp_adjustment; the
-- score itself stays the scorer's.
ALTER TABLE leads ADD COLUMN icp_adjustment INTEGER NOT NULL DEFAULT 0
    CHECK (icp_adjustment BETWEEN -100 AND 100);
ALTER TABLE leads ADD COLUMN icp_reason TEXT;
ALTER TABLE leads ADD COLUMN icp_ranked_at TEXT;
