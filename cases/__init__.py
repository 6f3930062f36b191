"""Service catalog, case workflow, working-day deadlines and supervision lights."""
