"""Cart, checkout, orders (state machine), payments, review, SLAs and invoices."""
