"""The predict endpoints and the pipeline behind them."""
