"""Analytics: measures across the domain apps, read only. TEAM-01: the KPIs of each role."""
