"""The alert the demo sends: an SMS, a call that asks to press 1, and an e-mail, templated
with each citizen's first name, in a category that requires confirmation."""

from __future__ import annotations

from tocsin.model import Alert, Category, Message

GROUP = "Quartier nord (démo)"
TITLE = "Coupure d'eau demain — quartier nord"


def demo_alert() -> Alert:
    return Alert(
        TITLE,
        (
            Message("sms", "Mairie : coupure d'eau demain de 8h à 12h dans votre quartier. "
                           "Prévoyez des réserves."),
            Message("call", "Bonjour {{ first_name }}. Ici la mairie. L'eau sera coupée demain "
                            "de 8 heures à midi dans votre quartier. Appuyez sur 1 pour confirmer "
                            "que vous avez reçu ce message.", repeat=2),
            Message("email",
                    "Bonjour {{ first_name }},\n\nL'eau sera coupée demain de 8h à 12h dans "
                    "votre quartier. Prévoyez des réserves.\n\nLa mairie",
                    subject="Coupure d'eau demain, {{ first_name }}",
                    html="<p>Bonjour {{ first_name }},</p><p>L'eau sera coupée <b>demain de 8h "
                         "à 12h</b> dans votre quartier. Prévoyez des réserves.</p>"
                         "<p>La mairie</p>"),
        ),
        category=Category("urgent", requires_confirmation=True),
    )
