"""What the WhatsApp channel itself says (not the conversation's responses, which live in
bot/domain/), in the four varieties of design §3. Plain data, importable without Rasa."""

from __future__ import annotations

LANGUAGES = ("fr", "ar", "ary", "ary_latn")

# Answer to a voice note, an image or a document: the bot reads text only.
MEDIA_TEXTS = {
    "fr": "Je ne peux pas encore écouter les messages vocaux ni lire les images ou les documents 🙏 "
          "Pouvez-vous écrire votre question en quelques mots ?",
    "ar": "عذرًا، لا يمكنني بعدُ الاستماع إلى الرسائل الصوتية ولا قراءة الصور أو الوثائق 🙏 "
          "المرجو كتابة سؤالك في رسالة نصية.",
    "ary": "سمح ليا، مازال ما نقدرش نسمع الأوديو ولا نقرا التصاور والوثائق 🙏 عافاك كتب ليا السؤال ديالك.",
    "ary_latn": "Sme7 lia, mazal ma n9derch nsme3 l'audio wla n9ra tsawer w lwata2i9 🙏 "
                "3afak kteb lia so2al dyalek.",
}
