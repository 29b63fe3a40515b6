"""scikit-learn-compatible estimators and their functional forms, one module per family."""
