from parro import create_app

app = create_app()
