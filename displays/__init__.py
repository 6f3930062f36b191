"""What LED strips, queue displays, counter displays and voice calls show, rendered from events."""
