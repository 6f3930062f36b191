"""What LED strips, queue displays, counter displays and voice calls show, rendered from events.

* ``texts`` — the words of a call per locale (Chinese first), LED line fitting, counter screen lines
* ``board`` — the queue display as a pure fold of the event log (``apply(state, event)``)
* ``clips`` — which pre-rendered clips, in which order, make a spoken call
* ``voice`` — calls joined from the clips; free text from espeak-ng with a disk and memory cache;
  the chime, WAV joining
"""
