"""Customer service: tickets and complaints with SLA tiers, reply scripts, reviews (CS, LOG-02)."""
