"""The Quart layer: hooks, responses, forms and blueprints over the async core."""
