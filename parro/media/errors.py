"""Why an upload is refused: messages for the user, rendered in their language."""


class UploadError(Exception):
    """One file cannot be accepted; the message is for the user."""

    def __init__(self, message):
        super().__init__("upload refused")  # the lazy message is rendered in the request
        self.message = message


class UploadErrors(Exception):
    """Some files cannot be accepted; `messages` says which and why."""

    def __init__(self, messages):
        super().__init__(f"{len(messages)} uploads refused")
        self.messages = messages
