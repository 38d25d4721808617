"""The building-permit feed: a parcel's site report, its sketch (PDF) and the footprint check (issue 10)."""
