"""Predictive traits: models fitted on the warehouse's feature snapshots, stored as
parameters the dbt models score in SQL (docs/predictions.md).

- `snapshots`: reads `customer_feature_snapshots` (features as of a cutoff, labels
  after it) into a training and a holdout frame.
- `clv`: BG/NBD and Gamma-Gamma (the `lifetimes` package), and how many terms the SQL
  needs of BG/NBD's hypergeometric series.
- `classifiers`: purchase and churn propensity (logistic regression or gradient
  boosting, chosen by validation), exported as coefficients or trees.
- `evaluation`: holdout metrics beside the baselines, with bootstrap intervals.
- `store`: the versioned rows of `prediction_models`.
- `train`: all of it, as `onefold train` runs it.
"""
