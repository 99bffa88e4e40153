"""After-sales: returns, exchanges, refunds and QC of returned goods (AS-01…05)."""
