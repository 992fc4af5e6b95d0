"""The SLA ledger: clocks per incident, their arithmetic, the monthly report and its pages."""
