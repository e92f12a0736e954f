"""What account operations raise; the HTTP edge turns each into its answer."""


class InvalidToken(Exception):
    pass


class AuthUnavailable(Exception):
    """The token could not be checked at all (Google's keys unreachable): a server-side failure, not the caller's."""


class AccountError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
