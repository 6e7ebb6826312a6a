"""The Schedule screen's parts: the pure layout of the board, the grid that draws it,
and the side panels (tickets to book, flags, utilisation)."""
