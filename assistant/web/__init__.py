"""The web front: a FastAPI app serving the JSON API, the Gradio chat, the article viewer and the
embeddable widget. Nothing here is imported by the stages below it."""
