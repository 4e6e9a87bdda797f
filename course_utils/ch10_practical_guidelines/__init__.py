"""Chapter 10, practical guidelines: training within a time budget, timing epochs."""
